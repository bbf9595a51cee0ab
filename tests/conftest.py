"""Shared test settings: quick mode on, TensorFlow quiet, notebooks found once."""
import os

os.environ.setdefault("NASBOOK_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

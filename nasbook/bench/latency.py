"""Measured inference latency (hardware-aware NAS on this CPU): one protocol, and the FLOPs it is
compared with.

The protocol (HW-NAS-Bench's question, "do FLOPs predict latency?", asked on our space): the
model's traced forward pass (:func:`nasbook.logits.compiled`, as a deployed model runs) on a
fixed random batch; ``warmup`` calls first (tracing, caches), then ``repeats`` timed calls; the
median and interquartile range in milliseconds, with TensorFlow's thread counts, the CPU and the
load average recorded. :func:`measure_stable` repeats rounds until two medians agree within
``tolerance`` (a busy machine moves the median; the rounds it took are recorded).

Usage::

    from nasbook.bench.latency import measure_stable, flops
    row = measure_stable(model, batch_size=1)      # {"median_ms", "iqr_ms", "rounds", ...}
    flops(model)                                   # multiply-adds x 2 of Conv1D and Dense layers
"""
from __future__ import annotations

import os
import platform
import time

import numpy as np

__all__ = ["measure", "measure_stable", "flops", "machine"]


def machine() -> dict:
    """The CPU, its core count, TensorFlow's thread settings and the 1-minute load average."""
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(),
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
            "load_1min": round(os.getloadavg()[0], 2)}


def measure(model, batch_size: int, *, repeats: int = 20, warmup: int = 3, seed: int = 0) -> dict:
    """Latency of one forward pass of ``batch_size`` examples: median and interquartile range
    (ms) of ``repeats`` timed calls after ``warmup`` untimed ones."""
    from nasbook.logits import compiled

    if repeats < 5 or warmup < 1 or batch_size < 1:
        raise ValueError(f"need repeats >= 5, warmup >= 1 and batch_size >= 1, got "
                         f"{repeats}, {warmup}, {batch_size}")
    shape = tuple(model.input_shape[1:])
    x = np.random.default_rng(seed).normal(size=(batch_size, *shape)).astype(np.float32)
    forward = compiled(model).forward
    for _ in range(warmup):
        forward(x).numpy()
    times = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        forward(x).numpy()
        times[i] = time.perf_counter() - start
    q1, median, q3 = np.percentile(times * 1e3, [25, 50, 75])
    return {"batch_size": batch_size, "median_ms": float(median), "iqr_ms": float(q3 - q1),
            "repeats": repeats, "load_1min": round(os.getloadavg()[0], 2)}


def measure_stable(model, batch_size: int, *, repeats: int = 20, warmup: int = 3,
                   tolerance: float = 0.1, max_rounds: int = 5) -> dict:
    """:func:`measure` in rounds until two consecutive medians differ by at most ``tolerance``
    (relative), at most ``max_rounds``; the last round's figures, ``rounds`` and ``stable``."""
    last = measure(model, batch_size, repeats=repeats, warmup=warmup)
    for rounds in range(2, max_rounds + 1):
        now = measure(model, batch_size, repeats=repeats, warmup=1)
        if abs(now["median_ms"] - last["median_ms"]) <= tolerance * last["median_ms"]:
            return {**now, "rounds": rounds, "stable": True}
        last = now
    return {**last, "rounds": max_rounds, "stable": False}


def flops(model) -> int:
    """Floating-point operations of one example's forward pass through the Conv1D and Dense
    layers (2 x multiply-adds; biases, activations and pooling left out, as FLOP counts
    usually do): Conv1D ``2 * out_length * kernel * in_channels * filters``, Dense
    ``2 * inputs * units``."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv1D):
            out_len = layer.output.shape[1]
            in_ch = layer.input.shape[-1]
            total += 2 * out_len * layer.kernel_size[0] * in_ch * layer.filters
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * int(np.prod(layer.input.shape[1:])) * layer.units
    return int(total)

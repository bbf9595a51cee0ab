"""Efficient NAS on the benchmark space: a weight-sharing supernet and three ways to train it
(single-path uniform sampling, ENAS, first-order DARTS); zero-cost proxies; the audit of cheap
estimators against the table's truth; and searches that use cheap estimates, cost counted.

Usage::

    from nasbook import oneshot
    sn = oneshot.Supernet(input_shape=(40, 1), num_classes=10, seed=0)
    run = oneshot.train_supernet("uniform", nb.load_dataset("mnist1d", seed=0))
    run.scores            # every architecture's validation accuracy with inherited weights
    frame = oneshot.proxies.compute()               # zero-cost proxies, all 324 architectures
    oneshot.audit.audit(frame.set_index("arch_id")["naswot"])
"""
from nasbook.oneshot.supernet import (CODE_SIZE, SEGMENTS, ArchitectureError, Supernet,
                                      check_arch, encode)
from nasbook.oneshot.scoring import score_supernet
from nasbook.oneshot.train import (LEARNING_RATES, METHODS, TUNING_SEEDS, SupernetRun,
                                   default_epochs, train_supernet)
from nasbook.oneshot import audit, bias, cheap, proxies  # noqa: E402,F401  (submodules)

__all__ = ["Supernet", "ArchitectureError", "check_arch", "encode", "SEGMENTS", "CODE_SIZE",
           "score_supernet", "train_supernet", "SupernetRun", "METHODS", "LEARNING_RATES",
           "default_epochs", "TUNING_SEEDS"]

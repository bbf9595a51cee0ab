"""Efficient NAS on the benchmark: zero-cost proxies, the audit of cheap estimators against
the table's truth, and searches that use cheap estimates with their cost counted.

Usage::

    from nasbook.oneshot import proxies, audit
    frame = proxies.compute()                       # zero-cost proxies, all 324 architectures
    audit.audit(frame.set_index("arch_id")["naswot"])
"""
from nasbook.oneshot import audit, bias, cheap, proxies  # noqa: F401

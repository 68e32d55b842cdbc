"""gunicorn settings for production (`make serve`); each can be overridden on the command line.

Threads in a few processes suit this application: requests wait on the database and on outside
services more than they compute. Every worker builds its own app (no preload), so no database
connection is shared across a fork.
"""
import multiprocessing
import os

bind = os.environ.get("REGISTRY_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("REGISTRY_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 8)))
worker_class = "gthread"
threads = int(os.environ.get("REGISTRY_THREADS", "4"))
timeout = int(os.environ.get("REGISTRY_WORKER_TIMEOUT", "60"))  # PDFs and Excel imports take seconds, not minutes
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, staggered, so a slow leak never grows without bound. Not often: a
# worker's start costs seconds of CPU (the app, FAB's views, every template compiled afresh), which at
# 2,000 requests a worker was a fifth of the CPU under load (bench/load.py).
max_requests = 50000
max_requests_jitter = 5000
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"  # heartbeat files off a possibly slow or read-only disk

# Logs go to stdout/stderr, one line per request, for the container or systemd journal to collect.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("REGISTRY_LOG_LEVEL", "info")
access_log_format = '%(h)s "%({x-forwarded-for}i)s" %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# Behind REGISTRY_PROXY_COUNT reverse proxies the app (ProxyFix) takes the client address and scheme
# from their X-Forwarded-* headers; gunicorn trusts them only from the proxy's address. With no
# proxy, nobody may claim https through a header.
_proxies = int(os.environ.get("REGISTRY_PROXY_COUNT", "0") or 0)
forwarded_allow_ips = os.environ.get("REGISTRY_FORWARDED_ALLOW_IPS", "127.0.0.1" if _proxies else "")

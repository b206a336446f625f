"""The production topology on one machine (``make cluster``): deploy/cluster.py and its HAProxy
configuration. It imports no Django (it starts the processes that do)."""

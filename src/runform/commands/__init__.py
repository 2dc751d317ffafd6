"""Sub-commands of the ``runform`` CLI, one module each.

A module here defines ``register(subparsers)``, which adds its parser with a one-line
``help`` and sets ``func`` (a callable taking the parsed args and returning an exit status).
Modules are discovered automatically; keep imports of heavy libraries inside ``func``.
"""

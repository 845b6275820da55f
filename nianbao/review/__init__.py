"""The review web app: a queue of flagged values, each shown beside its place in the source.

``source`` opens a value's place (``source_view``, ``view_for``); the app's pages read
the results store (``nianbao.store``) and write corrections into it.
"""

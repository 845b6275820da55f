"""How a batch runs: the inputs as work items, the extractor fingerprint, the engines that read them.

``local`` (``nianbao.batch``) runs N isolated reader processes on this machine; ``ray``
(``nianbao.engines.ray_engine``) runs the same per-document function on a Ray cluster.
Either way every record goes through the one ``Writer`` of the run, in completion order.
"""

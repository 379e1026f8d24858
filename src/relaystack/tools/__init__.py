"""Tools: one module per tool ``type`` (``function`` today), each owning everything about
its tool: the request model, how it is offered to the upstream model, whether and how it
runs server-side, its output items, their stream events and their chat form.
``relaystack.catalog`` registers them.
"""

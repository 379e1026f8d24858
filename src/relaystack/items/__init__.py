"""The typed item core: what an item is, in the request and in the store.

Every item ``type`` has one home (a module with its request model, its stored shape,
how it is normalised and how it turns into chat messages). Core kinds live here
(``message``, ``reasoning``, ``item_reference``); a tool's call and output items live
with the tool in ``relaystack.tools``; ``relaystack.catalog`` lists them all. Nothing
here imports ``responses`` or ``conversations``: both build on it.
"""

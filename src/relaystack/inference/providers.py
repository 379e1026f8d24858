"""Every provider type, by the ``type`` its configuration section names.

A new provider type is its own modules (the provider, and a declaring module with a
``PROVIDER_TYPE``: see ``provider_type``) plus one line below; the configuration,
the app and ``relaystack check`` find it here.
"""

from __future__ import annotations

from relaystack.inference import openai_compatible_config
from relaystack.inference.local import config as local_config
from relaystack.inference.provider_type import AnyProviderType

PROVIDER_TYPES: dict[str, AnyProviderType] = {
    provider_type.name: provider_type
    for provider_type in (
        openai_compatible_config.PROVIDER_TYPE,
        local_config.PROVIDER_TYPE,
    )
}


def provider_type(name: str) -> AnyProviderType:
    """The provider type a validated configuration names (so it is always known)."""
    return PROVIDER_TYPES[name]

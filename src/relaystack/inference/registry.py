"""Public model ids (``<provider>/<model>``) and the providers that serve them."""

from __future__ import annotations

from dataclasses import dataclass

from relaystack.errors import NotFound
from relaystack.inference.base import InferenceProvider, ModelInfo


@dataclass(frozen=True)
class ResolvedModel:
    public_id: str
    upstream_id: str
    provider: InferenceProvider
    info: ModelInfo


class ModelRegistry:
    def __init__(self) -> None:
        self._models: dict[str, ResolvedModel] = {}
        self.providers: list[InferenceProvider] = []

    async def add_provider(self, provider: InferenceProvider) -> None:
        self.providers.append(provider)
        for info in await provider.list_models():
            public_id = f"{provider.id}/{info.id}"
            self._models[public_id] = ResolvedModel(public_id, info.id, provider, info)

    def resolve(self, public_id: str) -> ResolvedModel:
        model = self._models.get(public_id)
        if model is None:
            raise NotFound(
                f"The model '{public_id}' does not exist or you do not have access to it. "
                "Use 'client.models.list()' to list available Models.",
                param="model",
                code="model_not_found",
            )
        return model

    def all(self) -> list[ResolvedModel]:
        return list(self._models.values())

    async def aclose(self) -> None:
        for provider in self.providers:
            await provider.aclose()

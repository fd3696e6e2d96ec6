"""Any OpenAI-compatible chat server (llama_cpp.server, llama.cpp's server, vLLM)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import httpx

from knowledge.errors import BackendError
from tutor.llm.base import GenerationStats, LLMBackend, Message, register_backend

log = logging.getLogger(__name__)


@register_backend("openai-http")
class OpenAIHttpBackend(LLMBackend):
    """Streams ``/v1/chat/completions`` over server-sent events."""

    def __init__(self, base_url: str, model: str = "", timeout_s: float = 300.0,
                 api_key: str = "") -> None:
        super().__init__()
        if not base_url:
            raise BackendError("the HTTP backend needs a server URL",
                               "set ERICA_LLM_URL, e.g. http://127.0.0.1:8000")
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(
            base_url=self.base_url, headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=5.0))

    @property
    def model_name(self) -> str:
        return f"{self.model or 'server model'} @ {self.base_url}"

    def _unreachable(self, exc: Exception) -> BackendError:
        return BackendError(
            f"the language-model server at {self.base_url} cannot be reached "
            f"({type(exc).__name__})",
            "start it (e.g. `python -m llama_cpp.server --model FILE.gguf --host 127.0.0.1`) "
            "or unset ERICA_LLM_BACKEND to use the in-process model",
        )

    def _stream(self, messages: list[Message], max_tokens: int, stats: GenerationStats,
                should_stop: Callable[[], bool]) -> Iterator[str]:
        body = {"messages": messages, "max_tokens": max_tokens, "stream": True,
                "temperature": 0.3, "stream_options": {"include_usage": True}}
        if self.model:
            body["model"] = self.model
        try:
            with self.client.stream("POST", "/v1/chat/completions", json=body) as response:
                if response.status_code != 200:
                    detail = response.read().decode("utf-8", "replace")[:300]
                    raise BackendError(
                        f"the language-model server answered HTTP {response.status_code}: "
                        f"{detail}", "check the server's log and its model")
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    event = json.loads(data)
                    usage = event.get("usage") or {}
                    if usage:
                        stats.prompt_tokens = int(usage.get("prompt_tokens", 0))
                    for choice in event.get("choices") or []:
                        piece = (choice.get("delta") or {}).get("content") or ""
                        if choice.get("finish_reason") == "length":
                            stats.stopped = "length"
                        if piece:
                            stats.completion_tokens += 1
                            yield piece
                    if should_stop():
                        break
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise self._unreachable(exc) from exc
        except httpx.TimeoutException as exc:
            raise BackendError(f"the language-model server at {self.base_url} timed out",
                               "check the server, or raise ERICA_LLM_TIMEOUT_S") from exc
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            raise BackendError(f"the language-model server failed: {exc}",
                               "check the server's log") from exc

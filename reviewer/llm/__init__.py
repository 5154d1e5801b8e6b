"""The optional LLM pass (off by default): questions phrased for the code, and a PR summary.

Nothing here imports the openai SDK until the pass runs, so the reports can name
:class:`LLMReview` without the ``llm`` extra installed.
"""

from reviewer.llm.review import LLMReview, review_with_llm

__all__ = ["LLMReview", "review_with_llm"]

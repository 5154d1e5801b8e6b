"""The optional LLM pass (off by default): questions phrased for the code, and a PR summary.

review.py runs the pass; outcome.py is what reports show of it. Nothing imports the
openai SDK until the pass runs, so reports work without the ``llm`` extra installed.
"""

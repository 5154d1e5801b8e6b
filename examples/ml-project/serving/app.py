"""Scores candidates for the home feed."""

import asyncio
import time

import requests
import torch
from fastapi import FastAPI

app = FastAPI()
model = torch.jit.load("/models/ranker.pt", map_location="cpu")
recent_scores = {}
events = asyncio.Queue()


def enrich(user_id):
    return requests.get(f"https://profile.internal.example.com/users/{user_id}").json()


@app.post("/score")
async def score(payload: dict):
    profile = enrich(payload["user_id"])
    time.sleep(0.01)
    with torch.no_grad():
        scores = model(torch.tensor(payload["features"])).tolist()
    recent_scores[payload["user_id"]] = scores
    await events.put(payload)
    return {"scores": scores, "segment": profile.get("segment")}


@app.get("/health")
def health():
    try:
        requests.get("https://profile.internal.example.com/health", timeout=1)
    except Exception:
        pass
    return {"ok": True}

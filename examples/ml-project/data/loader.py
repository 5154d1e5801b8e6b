"""Reads click logs and the feature store."""

import functools
import glob
import json

import pandas as pd
import requests
import torch
from torch.utils.data import Dataset

FEATURE_STORE = "https://features.internal.example.com/v1"


def load_clicks(pattern):
    frames = []
    for path in glob.glob(pattern):
        frames.append(pd.read_csv(path))
    return pd.concat(frames)


@functools.lru_cache(maxsize=None)
def user_features(user_id):
    response = requests.get(f"{FEATURE_STORE}/users/{user_id}")
    return response.json()


def refresh_embeddings(user_ids):
    rows = []
    for user_id in user_ids:
        for attempt in range(5):
            try:
                rows.append(requests.post(f"{FEATURE_STORE}/embed", json={"id": user_id}, timeout=10).json())
                break
            except requests.RequestException:
                continue
    return rows


class ClickDataset(Dataset):
    def __init__(self, frame):
        self.features = torch.tensor(frame.drop(columns=["label"]).values, dtype=torch.float32)
        self.labels = torch.tensor(frame["label"].values, dtype=torch.float32)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.features[index], self.labels[index]


class SessionDataset(Dataset):
    """One JSON file per user session."""

    def __init__(self, paths):
        self.paths = paths

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        try:
            with open(self.paths[index]) as handle:
                return json.load(handle)
        except Exception:
            return None

"""Fine-tunes the ranking model on last week's click logs."""

import argparse
import json
import os

import pandas as pd
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader

from data.loader import ClickDataset, load_clicks


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="s3://ml-data/clicks/*.csv")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--init", default="checkpoints/base.pt")
    return parser.parse_args()


def main():
    args = parse_args()
    dist.init_process_group("nccl")
    model = torch.load(args.init)
    model = model.cuda()
    model = DDP(model)

    frame = load_clicks(args.data)
    loader = DataLoader(ClickDataset(frame), batch_size=256, shuffle=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)

    for epoch in range(args.epochs):
        for features, labels in loader:
            features, labels = features.cuda(), labels.cuda()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(features), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(json.dumps({"epoch": epoch, "loss": loss.item()}))


if __name__ == "__main__":
    main()

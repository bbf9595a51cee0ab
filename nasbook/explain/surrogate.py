"""A global decision-tree surrogate of a network: a readable model trained to imitate it.

The tree is fit on the *network's predictions* (not the true labels) over flattened inputs.
Its **fidelity** is the fraction of held-out examples on which tree and network agree; only a
faithful surrogate says anything about the network. Its rules come from sklearn's
``export_text``. A shallow tree is readable and usually unfaithful; a deep one is faithful and
no longer readable: the depth limit is that trade-off.

Usage::

    sur = nb.explain.tree_surrogate(model, ds.x_train, ds.x_test, max_depth=4)
    print(sur.fidelity); print(sur.rules)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasbook.logits import predict_classes

__all__ = ["SurrogateResult", "tree_surrogate", "pixel_feature_names"]


@dataclass
class SurrogateResult:
    """A fitted ``DecisionTreeClassifier`` imitating a network, and how well it does.

    ``fidelity``: agreement with the network on held-out inputs; ``train_fidelity`` on the
    inputs it was fit on; ``tree_accuracy`` / ``network_accuracy`` against true labels (if
    given, else None); ``rules``: sklearn ``export_text``; ``feature_names``.
    """

    tree: object
    fidelity: float
    train_fidelity: float
    tree_accuracy: float | None
    network_accuracy: float | None
    rules: str
    feature_names: list
    max_depth: int | None

    def __repr__(self):
        acc = ("" if self.tree_accuracy is None else
               f", tree accuracy {self.tree_accuracy:.3f} vs network {self.network_accuracy:.3f}")
        return (f"SurrogateResult(depth {self.tree.get_depth()}, {self.tree.get_n_leaves()} "
                f"leaves, held-out fidelity {self.fidelity:.3f}, train fidelity "
                f"{self.train_fidelity:.3f}{acc})")

    def predict(self, x):
        """The tree's class for inputs shaped like the network's (n, *input_shape)."""
        x = np.asarray(x)
        return self.tree.predict(x.reshape(len(x), -1))


def pixel_feature_names(input_shape) -> list:
    """Readable names for flattened inputs: ``px[r,c]`` for images, ``x[t]`` for signals
    (a channel index is added when there is more than one channel).

    Usage: ``pixel_feature_names((8, 8, 1))[:2] == ['px[0,0]', 'px[0,1]']``
    """
    shape = tuple(int(s) for s in input_shape)
    channels = shape[-1]
    idx = np.ndindex(*shape)
    if len(shape) == 3:
        return [f"px[{r},{c}]" + (f"c{k}" if channels > 1 else "") for r, c, k in idx]
    if len(shape) == 2:
        return [f"x[{t}]" + (f"c{k}" if channels > 1 else "") for t, k in idx]
    return [f"f{i}" for i in range(int(np.prod(shape)))]


def tree_surrogate(model, x_fit, x_holdout, *, max_depth=4, y_holdout=None,
                   feature_names=None, class_names=None, min_samples_leaf=1,
                   seed=0) -> SurrogateResult:
    """Fit a depth-limited decision tree to ``model``'s predicted classes on ``x_fit`` and
    measure its agreement with the network on ``x_holdout`` (fidelity).

    ``y_holdout``: true labels, to report both models' accuracy; ``max_depth=None``: unlimited.
    Usage: ``tree_surrogate(model, ds.x_train, ds.x_test, max_depth=5, y_holdout=ds.y_test)``
    """
    from sklearn.tree import DecisionTreeClassifier, export_text

    x_fit = np.asarray(x_fit, dtype=np.float32)
    x_holdout = np.asarray(x_holdout, dtype=np.float32)
    if x_fit.shape[1:] != x_holdout.shape[1:]:
        raise ValueError(f"fit inputs {x_fit.shape[1:]} and held-out inputs "
                         f"{x_holdout.shape[1:]} differ in shape")
    if max_depth is not None and int(max_depth) < 1:
        raise ValueError(f"max_depth must be a positive integer or None, got {max_depth!r}")
    names = list(feature_names) if feature_names is not None else \
        pixel_feature_names(x_fit.shape[1:])
    if len(names) != int(np.prod(x_fit.shape[1:])):
        raise ValueError(f"{len(names)} feature names for {int(np.prod(x_fit.shape[1:]))} "
                         f"input values")
    net_fit = predict_classes(model, x_fit)
    net_hold = predict_classes(model, x_holdout)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                  random_state=seed)
    tree.fit(x_fit.reshape(len(x_fit), -1), net_fit)
    tree_hold = tree.predict(x_holdout.reshape(len(x_holdout), -1))
    fidelity = float(np.mean(tree_hold == net_hold))
    train_fidelity = float(np.mean(tree.predict(x_fit.reshape(len(x_fit), -1)) == net_fit))
    tree_acc = net_acc = None
    if y_holdout is not None:
        y_holdout = np.asarray(y_holdout)
        tree_acc = float(np.mean(tree_hold == y_holdout))
        net_acc = float(np.mean(net_hold == y_holdout))
    kwargs = {}
    if class_names is not None:
        kwargs["class_names"] = [str(class_names[c]) for c in tree.classes_]
    rules = export_text(tree, feature_names=names, **kwargs)
    return SurrogateResult(tree=tree, fidelity=fidelity, train_fidelity=train_fidelity,
                           tree_accuracy=tree_acc, network_accuracy=net_acc, rules=rules,
                           feature_names=names, max_depth=max_depth)

"""Naive Bayes models in the shared test catalog: every estimator class and
variant (priors given or learned, binarize threshold or none, ComplementNB's
norm, CategoricalNB's min_categories), binary and multi-class."""

from __future__ import annotations

from sklearn import naive_bayes as nb

from ...testing.catalog import Example

EXAMPLES = (
    Example("GaussianNB-iris", lambda: nb.GaussianNB(), "iris"),
    Example("GaussianNB-binary", lambda: nb.GaussianNB(), "breast_cancer"),
    Example("GaussianNB-priors", lambda: nb.GaussianNB(priors=[0.5, 0.3, 0.2], var_smoothing=1e-3), "wine"),
    Example("MultinomialNB", lambda: nb.MultinomialNB(), "digits"),
    Example("MultinomialNB-class-prior",
            lambda: nb.MultinomialNB(alpha=0.5, class_prior=[0.2, 0.3, 0.5]), "wine"),
    Example("ComplementNB", lambda: nb.ComplementNB(), "digits"),
    Example("ComplementNB-norm", lambda: nb.ComplementNB(norm=True), "wine"),
    Example("BernoulliNB", lambda: nb.BernoulliNB(), "synthetic_classification"),
    Example("BernoulliNB-threshold", lambda: nb.BernoulliNB(binarize=8.0), "digits"),
    # 2.9 is no float32, and a value of many iris rows: they stay below it.
    Example("BernoulliNB-threshold-inexact", lambda: nb.BernoulliNB(binarize=2.9), "iris"),
    Example("BernoulliNB-no-binarize", lambda: nb.BernoulliNB(binarize=None, fit_prior=False), "binary_digits"),
    Example("CategoricalNB", lambda: nb.CategoricalNB(), "iris"),
    Example("CategoricalNB-min-categories", lambda: nb.CategoricalNB(min_categories=12, alpha=0.3), "iris"),
)

"""Trains the sample's model, a small decision tree on the iris data set, and
saves it with joblib to the path given as the first argument (default:
iris_tree.joblib in the current folder)."""

import sys

import joblib
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

X, y = load_iris(return_X_y=True)
model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
output = sys.argv[1] if len(sys.argv) > 1 else "iris_tree.joblib"
joblib.dump(model, output)
print(f"wrote {output}")

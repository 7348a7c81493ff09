# Joined after common.py (emlearn_gen.micropython.pure), whose names it uses.
# ruff: noqa: F821
# ---- the runtime module's functions ----


def load(data):
    # A model from the bytes of a model file.
    return Model(data)


def load_file(path):
    # A model from a model file on the filesystem.
    with open(path, 'rb') as f:
        return Model(f.read())

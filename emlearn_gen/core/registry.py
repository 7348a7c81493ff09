"""The one registry of model families: which family converts which estimator."""

from __future__ import annotations

from typing import Any, Dict, Tuple

from .family import Family


class Registry:
    """Families by estimator class. Built once from the tuple in
    ``emlearn_gen/families/__init__.py``."""

    def __init__(self, families: Tuple[Family, ...]) -> None:
        self.families = families
        self._by_class: Dict[type, Family] = {}
        names = set()
        for family in families:
            if family.name in names:
                raise ValueError(f"two model families are named {family.name!r}")
            names.add(family.name)
            for cls in family.estimators:
                if cls in self._by_class:
                    raise ValueError(f"{cls.__name__} is claimed by {self._by_class[cls].name} and {family.name}")
                self._by_class[cls] = family

    def supported_estimators(self) -> Tuple[str, ...]:
        return tuple(sorted(cls.__name__ for cls in self._by_class))

    def family_of(self, estimator: Any) -> Family:
        """The family converting ``type(estimator)``; TypeError listing the
        supported estimators otherwise."""
        family = self._by_class.get(type(estimator))
        if family is None:
            got = type(estimator).__name__
            raise TypeError(
                f"emlearn_gen cannot convert {got}. Supported estimators: "
                + ", ".join(self.supported_estimators())
            )
        return family

    def get(self, name: str) -> Family:
        for family in self.families:
            if family.name == name:
                return family
        raise KeyError(name)

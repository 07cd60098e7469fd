"""The recipe registry. Importing this package registers every built-in recipe family;
third-party recipes arrive through the ``csbench.recipes`` entry point group or ``--recipe-file``."""
import importlib

from benchmark.recipes.base import RECIPES, Recipe, RecipeContext, register_recipe

# One module per method family; each registers its settings on import.
FAMILY_MODULES = ("reference", "control", "quantize", "quantize_gee", "prune", "distill", "fair", "vocab", "data_distill")

for _module in FAMILY_MODULES:
    importlib.import_module(f"benchmark.recipes.{_module}")
# Decoder-only recipes (the layer-dropped LM student, LM pruning) live with the generative track.
importlib.import_module("benchmark.generative.recipes")


def create_recipe(name: str) -> Recipe:
    return RECIPES.get(name)


def list_recipes(pattern: str = "*") -> list[str]:
    return RECIPES.names(pattern)


__all__ = ["RECIPES", "Recipe", "RecipeContext", "register_recipe", "create_recipe", "list_recipes"]

"""The model core: expression trees and the immutable logical network."""

from her2sim.model.expr import Expr
from her2sim.model.network import IStateGroup, Model, Node, validate

__all__ = ["Expr", "IStateGroup", "Model", "Node", "validate"]

"""The condition language: CEL (Common Expression Language), parsed by cel-python, compiled to closures."""

from .budget import BudgetExceeded
from .compiler import CompiledExpression, compile_expression, compile_value
from .errors import EVAL_ERRORS, CompileError, EvalError, Position
from .nodes import Symbols

__all__ = ["EVAL_ERRORS", "BudgetExceeded", "CompileError", "CompiledExpression", "EvalError", "Position", "Symbols",
           "compile_expression", "compile_value"]

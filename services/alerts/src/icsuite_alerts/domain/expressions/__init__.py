"""The condition language: CEL (Common Expression Language), parsed by cel-python, compiled to closures."""

from .compiler import CompiledExpression, compile_expression
from .errors import EVAL_ERRORS, CompileError, EvalError, Position
from .nodes import Symbols

__all__ = ["EVAL_ERRORS", "CompileError", "CompiledExpression", "EvalError", "Position", "Symbols",
           "compile_expression"]

"""The Open Inference Protocol (V2, REST): what KServe, MLServer and Triton clients call."""

from newsapi.http.v2.routes import PROTOCOL

__all__ = ["PROTOCOL"]

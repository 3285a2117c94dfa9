"""One job over many files, or one long film in chunks, on a Ray cluster; resumable.

``vidext.batch(job, inputs, out_dir, ...)`` is :func:`vidext.batch.job.batch`.
"""
from .job import BatchProgress, BatchResult, FileSummary, batch

__all__ = ["batch", "BatchResult", "BatchProgress", "FileSummary"]

"""JSON shape of a job's status."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class Progress(BaseModel):
    done: int
    total: int = Field(description="0 while the job cannot tell how much there is to do")


class JobOut(BaseModel):
    id: int
    kind: str
    title: str = Field(description="What the job does, in words")
    status: Literal["queued", "running", "done", "failed"]
    message: str = Field(description="Where it is, or why it failed")
    progress: Progress
    attempts: int
    result: dict[str, Any] | None = Field(description="What it produced, once done")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobView(JobOut):
    """A job as its page shows it."""

    result_template: str | None = Field(description="The template that shows its result, if any")

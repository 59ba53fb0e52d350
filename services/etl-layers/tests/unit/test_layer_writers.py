"""The layer writers: one Parquet file per partition, every batch written in the order given,
and a failed write reported once every file is closed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from etl_layers.transform import _BackgroundWriter, _day_path, _PartitionWriter

DAY = date(2024, 3, 1)


def _batch(start: int, rows: int, day: date) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {
            "id": pa.array(range(start, start + rows), pa.int64()),
            "__partition": pa.array([day] * rows, pa.date32()),
        }
    )


def _ids(path: Path) -> list[int]:
    return pq.read_table(path).column("id").to_pylist()  # type: ignore[no-any-return]


class _FailingWriter(_PartitionWriter):
    def __init__(self, target: Path, fail_at: int) -> None:
        super().__init__(target, "f", path_of=_day_path)
        self.fail_at = fail_at
        self.calls = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise OSError("disk full")
        super().write(batch)


def test_queued_batches_reach_each_layer_whole_and_in_order(tmp_path: Path) -> None:
    writers = [
        _PartitionWriter(tmp_path / "a", "s", path_of=_day_path),
        _PartitionWriter(tmp_path / "b", "s", path_of=_day_path),
    ]
    background = _BackgroundWriter(writers, depth=3)
    # Ten batches over three days, more than the queue holds: none may be lost or reordered.
    for n in range(10):
        day = DAY + timedelta(days=n // 4)
        background.write([_batch(n * 100, 100, day), _batch(n * 100, 100, day)])
    outputs = background.close()

    for layer in outputs:
        assert [o.relative for o in layer] == [
            f"{_day_path(DAY + timedelta(days=d))}/s_0.parquet" for d in range(3)
        ]
        ids = [i for o in layer for i in _ids(o.path)]
        assert ids == list(range(1000))


def test_a_failed_write_is_raised_and_every_file_is_closed(tmp_path: Path) -> None:
    good = _PartitionWriter(tmp_path / "good", "s", path_of=_day_path)
    failing = _FailingWriter(tmp_path / "bad", fail_at=2)
    background = _BackgroundWriter([good, failing], depth=4)

    def scan() -> None:
        # As the layer scan uses it: the failure surfaces from a later write or from close.
        try:
            for n in range(6):
                background.write([_batch(n * 10, 10, DAY), _batch(n * 10, 10, DAY)])
        finally:
            background.close()

    with pytest.raises(OSError, match="disk full"):
        scan()
    # The other layer's file holds every batch given to it and is readable: close waited for
    # the queued batches before the writers' threads ended.
    assert _ids(good.outputs[0].path) == list(range(60))


def test_columns_of_mostly_distinct_values_are_written_without_a_dictionary(
    tmp_path: Path,
) -> None:
    rows = 1000
    batch = pa.RecordBatch.from_pydict(
        {
            "name": [f"customer {i}" for i in range(rows)],
            "category": [f"Category {i % 12}" for i in range(rows)],
            "__partition": pa.array([DAY] * rows, pa.date32()),
        }
    )
    writer = _PartitionWriter(tmp_path, "s", path_of=_day_path)
    writer.write(batch)
    writer.close()

    chunks = pq.ParquetFile(writer.outputs[0].path).metadata.row_group(0)
    encodings = {chunks.column(i).path_in_schema: chunks.column(i).encodings for i in range(2)}
    assert "RLE_DICTIONARY" not in encodings["name"]
    assert "RLE_DICTIONARY" in encodings["category"]
    assert pq.read_table(writer.outputs[0].path).column("name").to_pylist()[:2] == [
        "customer 0",
        "customer 1",
    ]

"""Which files make a day, and how they are cut into ranges near the target size."""

from __future__ import annotations

from datetime import UTC, date, datetime

from compactor.domains import DaySource, DomainSpec
from compactor.planning import LandingObject, ManifestEntry, Plan, cut_ranges, key_day, plan_day

DAY = date(2026, 11, 21)
YESTERDAY = datetime(2026, 11, 20, tzinfo=UTC)


def spec(source: DaySource, target_mb: int = 1) -> DomainSpec:
    return DomainSpec(
        name="orders", description="d", topic="orders", day_source=source, target_file_mb=target_mb
    )


def obj(key: str, size: int = 10, when: datetime | None = None) -> LandingObject:
    return LandingObject(key, size, f"e-{key}", when or datetime(2026, 11, 21, 5, tzinfo=UTC))


def entries(*sizes: int) -> list[ManifestEntry]:
    return [ManifestEntry(f"k{i:03d}", s, "e") for i, s in enumerate(sizes)]


def test_ranges_stay_at_or_under_the_target() -> None:
    ranges = cut_ranges(entries(4, 4, 4, 4, 4), target_bytes=10)
    assert [[e.size for e in r] for r in ranges] == [[4, 4], [4, 4], [4]]


def test_a_file_larger_than_the_target_is_a_range_of_its_own() -> None:
    ranges = cut_ranges(entries(3, 50, 3), target_bytes=10)
    assert [[e.size for e in r] for r in ranges] == [[3], [50], [3]]


def test_an_empty_day_has_no_range() -> None:
    plan = plan_day(spec(DaySource.LAST_MODIFIED), DAY, [])
    assert plan.ranges == ()
    assert plan.files == 0
    assert plan.bytes == 0


def test_last_modified_day_is_taken_in_utc() -> None:
    listed = [
        obj(
            "topics/orders/partition=0/orders+0+1.json",
            when=datetime(2026, 11, 21, 0, 0, tzinfo=UTC),
        ),
        obj(
            "topics/orders/partition=0/orders+0+2.json",
            when=datetime(2026, 11, 21, 23, 59, tzinfo=UTC),
        ),
        obj(
            "topics/orders/partition=0/orders+0+3.json",
            when=datetime(2026, 11, 22, 0, 0, tzinfo=UTC),
        ),
        obj(
            "topics/orders/partition=0/orders+0+0.json",
            when=datetime(2026, 11, 20, 23, 59, tzinfo=UTC),
        ),
    ]
    plan = plan_day(spec(DaySource.LAST_MODIFIED), DAY, listed)
    assert [e.key.rsplit("/", 1)[-1] for r in plan.ranges for e in r] == [
        "orders+0+1.json",
        "orders+0+2.json",
    ]


def test_key_path_day_comes_from_the_partitioner_path() -> None:
    inside = "topics/orders/year=2026/month=11/day=21/hour=23/orders+1+9.json"
    listed = [
        obj(inside, when=datetime(2026, 11, 22, 0, 5, tzinfo=UTC)),  # flushed after midnight
        obj("topics/orders/year=2026/month=11/day=22/hour=00/orders+1+10.json"),
    ]
    plan = plan_day(spec(DaySource.KEY_PATH), DAY, listed)
    assert [e.key for r in plan.ranges for e in r] == [inside]
    assert key_day("topics/x/year=2026/month=02/day=30/a.json") is None


def test_empty_and_non_json_objects_are_left_out_and_counted() -> None:
    listed = [
        obj("topics/orders/partition=0/orders+0+1.json", size=0),
        obj("topics/orders/partition=0/_SUCCESS"),
        obj("topics/orders/partition=0/orders+0+2.json"),
        obj("topics/orders/partition=0/orders+0+3.json.snappy"),
        obj("topics/orders/partition=0/orders+0+4.json.snappy"),
        obj("topics/orders/partition=0/orders+0+5.avro"),
        # Another day's object of another kind is not this day's concern.
        obj("topics/orders/partition=0/orders+0+6.avro", when=YESTERDAY),
    ]
    plan = plan_day(spec(DaySource.LAST_MODIFIED), DAY, listed)
    assert plan.files == 1
    assert plan.skipped == {".avro": 1, ".json.snappy": 2, "empty": 1, "no suffix": 1}
    assert Plan.from_json(plan.to_json()) == plan  # the manifest does not carry them


def test_same_input_gives_the_same_plan_id_in_any_listing_order() -> None:
    listed = [obj(f"topics/orders/partition=0/orders+0+{i}.json") for i in range(5)]
    first = plan_day(spec(DaySource.LAST_MODIFIED), DAY, listed)
    again = plan_day(spec(DaySource.LAST_MODIFIED), DAY, list(reversed(listed)))
    assert first == again
    changed = plan_day(
        spec(DaySource.LAST_MODIFIED), DAY, [*listed, obj("topics/orders/partition=1/x.json")]
    )
    assert changed.plan_id != first.plan_id


def test_plan_round_trips_through_its_manifest() -> None:
    plan = plan_day(spec(DaySource.LAST_MODIFIED), DAY, [obj("topics/orders/partition=0/a.json")])
    assert Plan.from_json(plan.to_json()) == plan


def test_gzipped_objects_are_the_day_s_and_weigh_as_what_they_unpack_to() -> None:
    listed = [
        obj("topics/orders/partition=0/orders+0+1.json.gz", size=200_000),
        obj("topics/orders/partition=0/orders+0+2.json", size=300_000),
        obj("topics/orders/partition=0/orders+0+3.json.gz", size=200_000),
    ]
    plan = plan_day(spec(DaySource.LAST_MODIFIED), DAY, listed)
    assert plan.files == 3
    # 1 MB target: a 200 kB gzip is ~1.6 MB of lines, a range of its own.
    assert [len(r) for r in plan.ranges] == [1, 1, 1]

"""Schema compatibility with the Laravel build (SPEC "Data model"; ../shared/reference/
laravel-schema.sql) checked against the live database with SHOW CREATE TABLE, plus the
migration bookkeeping: idempotent `migrate`, `migrate:status`, `migrate:rollback` and a
failing migration that stops with the file name and MariaDB's message.

What must match (per table): column names in order, each column's full definition (type,
charset/collation, NULL/NOT NULL, DEFAULT, CHECK (json_valid(...)), AUTO_INCREMENT), the
primary key, the unique keys by column list, the foreign keys (columns, referenced table and
columns, ON DELETE / ON UPDATE; MariaDB omits RESTRICT, so absent == RESTRICT), the table's
engine/charset/collation. Index names may differ and extra indexes are welcome, but every
non-unique index of the reference needs a live index on the same columns (in order).
"""
import os
import re
import shutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE = os.path.join(os.path.dirname(ROOT), "shared", "reference", "laravel-schema.sql")
MIGRATIONS = os.path.join(ROOT, "db", "migrations")

TABLES = ["migrations", "users", "personal_access_tokens", "workflows", "prompts",
          "workflow_steps", "execution_logs"]
# The engine's tables (ENGINE.md "Schema"): not in the Laravel reference, checked against
# their own expected definition below.
ENGINE_TABLES = ["workflow_runs"]
APP_TABLES = [t for t in TABLES if t != "migrations"] + ENGINE_TABLES


# ---------------------------------------------------------------- parsing CREATE TABLE

def _unescape_batch(s):
    """`mariadb -B` escapes newline, tab, NUL and backslash in values."""
    table = {"n": "\n", "t": "\t", "0": "\0", "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: table.get(m.group(1), m.group(1)), s)


def _cols(spec):
    """"`a`,`b`" → ("a", "b"); tolerates prefix lengths "`a`(10)" (kept in the name)."""
    return tuple(re.findall(r"`([^`]+)`(?:\(\d+\))?", spec))


def _norm_def(d):
    d = re.sub(r"\s+", " ", d.strip())
    return d


def _fk_action(s):
    s = (s or "RESTRICT").upper()
    # RESTRICT and NO ACTION are the same thing in InnoDB, and MariaDB prints neither
    return "RESTRICT" if s in ("RESTRICT", "NO ACTION") else s


def parse_create(sql):
    """Parse one CREATE TABLE statement as printed by SHOW CREATE TABLE / mysqldump."""
    m = re.match(r"\s*CREATE TABLE `([^`]+)` \((.*)\)\s*([^()]*?)\s*;?\s*$", sql, re.S)
    assert m, f"cannot parse CREATE TABLE:\n{sql}"
    name, body, options = m.group(1), m.group(2), m.group(3)
    t = {"name": name, "columns": [], "defs": {}, "primary": None, "unique": set(),
         "indexes": set(), "fks": {}, "checks": [], "options": {}}
    for raw in body.split("\n"):
        line = raw.strip().rstrip(",").strip()
        if not line:
            continue
        if line.startswith("`"):
            cm = re.match(r"`([^`]+)`\s+(.*)$", line)
            col, definition = cm.group(1), _norm_def(cm.group(2))
            t["columns"].append(col)
            t["defs"][col] = definition
        elif line.startswith("PRIMARY KEY"):
            t["primary"] = _cols(line[len("PRIMARY KEY"):])
        elif line.startswith("UNIQUE KEY") or line.startswith("UNIQUE INDEX"):
            km = re.match(r"UNIQUE (?:KEY|INDEX)\s+(?:`[^`]+`\s*)?\((.*)\)", line)
            cols = _cols(km.group(1))
            t["unique"].add(cols)
            t["indexes"].add(cols)
        elif re.match(r"(KEY|INDEX)\b", line):
            km = re.match(r"(?:KEY|INDEX)\s+(?:`[^`]+`\s*)?\((.*)\)", line)
            t["indexes"].add(_cols(km.group(1)))
        elif "FOREIGN KEY" in line:
            fm = re.match(r"(?:CONSTRAINT\s+`[^`]+`\s+)?FOREIGN KEY\s*\(([^)]*)\)\s*REFERENCES\s*"
                          r"`([^`]+)`\s*\(([^)]*)\)(.*)$", line)
            assert fm, f"cannot parse foreign key: {line}"
            rest = fm.group(4)
            od = re.search(r"ON DELETE (SET NULL|SET DEFAULT|CASCADE|RESTRICT|NO ACTION)", rest)
            ou = re.search(r"ON UPDATE (SET NULL|SET DEFAULT|CASCADE|RESTRICT|NO ACTION)", rest)
            t["fks"][_cols(fm.group(1))] = {
                "table": fm.group(2),
                "columns": _cols(fm.group(3)),
                "on_delete": _fk_action(od and od.group(1)),
                "on_update": _fk_action(ou and ou.group(1)),
            }
        elif "CHECK" in line:
            t["checks"].append(_norm_def(line))
        else:
            raise AssertionError(f"unexpected line in CREATE TABLE `{name}`: {line}")
    for key in ("ENGINE", "CHARSET", "COLLATE"):
        om = re.search(rf"\b{key}=(\S+)", options)
        t["options"][key] = om.group(1) if om else None
    return t


def reference_tables():
    text = open(REFERENCE).read()
    text = "\n".join(l for l in text.splitlines() if not l.startswith("--"))
    out = {}
    for stmt in re.findall(r"CREATE TABLE .*?;", text, re.S):
        t = parse_create(stmt)
        out[t["name"]] = t
    return out


def live_create(stack, table):
    rows = stack.sql(f"SHOW CREATE TABLE `{table}`")
    assert rows and len(rows[0]) == 2, rows
    return _unescape_batch(rows[0][1])


def live_table(stack, table):
    return parse_create(live_create(stack, table))


def all_create(stack):
    return {t: live_create(stack, t) for t in TABLES}


REF = reference_tables()


def test_reference_parsed_completely():
    assert sorted(REF) == sorted(TABLES)
    assert REF["workflow_steps"]["fks"][("prompt_id",)]["on_delete"] == "RESTRICT"
    assert REF["execution_logs"]["fks"][("parent_execution_log_id",)]["on_delete"] == "SET NULL"


# ---------------------------------------------------------------- per-table comparison

def compare(ref, live, additive=None):
    """Every difference that matters, as human lines (empty list = compatible).

    `additive` describes the engine's additive migrations on a reference table: {"columns":
    {name: definition}, "fks": {cols: fk}} — columns that may (and then must, exactly as
    given) follow the reference's columns, and their foreign keys."""
    name = ref["name"]
    problems = []
    extra_cols = (additive or {}).get("columns", {})
    extra_fks = (additive or {}).get("fks", {})
    trailing = live["columns"][len(ref["columns"]):]
    if live["columns"][:len(ref["columns"])] != ref["columns"] or \
            trailing != list(extra_cols)[:len(trailing)] or (extra_cols and not trailing):
        problems.append(f"{name}: columns {live['columns']} != reference {ref['columns']}"
                        + (f" + {list(extra_cols)}" if extra_cols else ""))
    for col in trailing:
        if col in extra_cols and live["defs"][col] != extra_cols[col]:
            problems.append(f"{name}.{col}: live `{live['defs'][col]}` != expected `{extra_cols[col]}`")
    for col in ref["columns"]:
        if col in live["defs"] and live["defs"][col] != ref["defs"][col]:
            problems.append(f"{name}.{col}: live `{live['defs'][col]}` != reference `{ref['defs'][col]}`")
    if live["primary"] != ref["primary"]:
        problems.append(f"{name}: primary key {live['primary']} != {ref['primary']}")
    if live["unique"] != ref["unique"]:
        problems.append(f"{name}: unique keys {sorted(live['unique'])} != {sorted(ref['unique'])}")
    for idx in sorted(ref["indexes"] - ref["unique"]):
        if idx not in live["indexes"]:
            problems.append(f"{name}: no index on {idx} (reference has one); live: {sorted(live['indexes'])}")
    want_fks = {**ref["fks"], **extra_fks}
    if set(live["fks"]) != set(want_fks):
        problems.append(f"{name}: foreign keys on {sorted(live['fks'])} != {sorted(want_fks)}")
    for cols, fk in want_fks.items():
        if cols in live["fks"] and live["fks"][cols] != fk:
            problems.append(f"{name}: foreign key {cols}: live {live['fks'][cols]} != reference {fk}")
    if live["checks"] != ref["checks"]:
        problems.append(f"{name}: table-level checks {live['checks']} != {ref['checks']}")
    if live["options"] != ref["options"]:
        problems.append(f"{name}: table options {live['options']} != {ref['options']}")
    return problems


# What the engine's migrations add to reference tables: trailing columns only (0008).
ADDITIVE = {
    "execution_logs": {
        "columns": {"workflow_run_id": "bigint(20) unsigned DEFAULT NULL"},
        "fks": {("workflow_run_id",): {"table": "workflow_runs", "columns": ("id",),
                                       "on_delete": "SET NULL", "on_update": "RESTRICT"}},
    },
}

# The engine's own tables as SHOW CREATE TABLE must print them (ENGINE.md "Schema").
# run_at's explicit DEFAULT keeps MariaDB from adding ON UPDATE current_timestamp to it.
ENGINE_EXPECTED = {
    "workflow_runs": """CREATE TABLE `workflow_runs` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `workflow_id` bigint(20) unsigned NOT NULL,
  `event` varchar(255) DEFAULT NULL,
  `triggering_object_id` varchar(255) DEFAULT NULL,
  `idempotency_key` varchar(255) DEFAULT NULL,
  `status` varchar(16) NOT NULL,
  `context` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`context`)),
  `last_step_order` int(11) DEFAULT NULL,
  `last_step_id` bigint(20) unsigned DEFAULT NULL,
  `attempt` int(11) NOT NULL DEFAULT 0,
  `run_at` timestamp(6) NOT NULL DEFAULT current_timestamp(6),
  `locked_by` varchar(64) DEFAULT NULL,
  `locked_until` timestamp(6) NULL DEFAULT NULL,
  `error_message` text DEFAULT NULL,
  `token_usage` int(11) NOT NULL DEFAULT 0,
  `cost` decimal(10,6) NOT NULL DEFAULT 0.000000,
  `started_at` timestamp NULL DEFAULT NULL,
  `finished_at` timestamp NULL DEFAULT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `workflow_runs_workflow_id_idempotency_key_unique` (`workflow_id`,`idempotency_key`),
  KEY `workflow_runs_status_run_at_index` (`status`,`run_at`),
  KEY `workflow_runs_workflow_id_id_index` (`workflow_id`,`id`),
  KEY `workflow_runs_triggering_object_id_index` (`triggering_object_id`),
  CONSTRAINT `workflow_runs_workflow_id_foreign` FOREIGN KEY (`workflow_id`) REFERENCES `workflows` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;""",
}
ENGINE_REF = {t: parse_create(sql) for t, sql in ENGINE_EXPECTED.items()}


@pytest.mark.parametrize("table", TABLES)
def test_table_matches_reference(stack, table):
    live_sql = live_create(stack, table)
    problems = compare(REF[table], parse_create(live_sql), ADDITIVE.get(table))
    assert not problems, "\n".join(problems) + "\n\nlive:\n" + live_sql


@pytest.mark.parametrize("table", TABLES)
def test_column_definitions_in_order(stack, table):
    """The same check spelled per column, so a failure names the first differing column;
    the engine's additive columns come after the reference's, in order."""
    live = live_table(stack, table)
    ref = REF[table]
    extra = ADDITIVE.get(table, {}).get("columns", {})
    assert [(c, live["defs"].get(c)) for c in live["columns"]] == \
        [(c, ref["defs"][c]) for c in ref["columns"]] + list(extra.items())


@pytest.mark.parametrize("table", ENGINE_TABLES)
def test_engine_table_matches_expected(stack, table):
    live_sql = live_create(stack, table)
    problems = compare(ENGINE_REF[table], parse_create(live_sql))
    assert not problems, "\n".join(problems) + "\n\nlive:\n" + live_sql
    # every index as expected, by column list (names may differ)
    assert parse_create(live_sql)["indexes"] == ENGINE_REF[table]["indexes"]
    assert "ON UPDATE" not in live_sql, live_sql


def test_additive_comparison_catches_differences():
    """Trailing engine columns are allowed only as declared: a reordered, missing or
    differently-typed workflow_run_id, or a missing foreign key, is reported."""
    base = open(REFERENCE).read()
    stmt = re.search(r"CREATE TABLE `execution_logs`.*?;", base, re.S).group(0)
    ref = parse_create(stmt)
    add = ADDITIVE["execution_logs"]
    good = stmt.replace(
        "  `executed_at` timestamp NOT NULL DEFAULT current_timestamp(),",
        "  `executed_at` timestamp NOT NULL DEFAULT current_timestamp(),\n"
        "  `workflow_run_id` bigint(20) unsigned DEFAULT NULL,").replace(
        "  PRIMARY KEY (`id`),",
        "  PRIMARY KEY (`id`),\n  CONSTRAINT `x` FOREIGN KEY (`workflow_run_id`) REFERENCES "
        "`workflow_runs` (`id`) ON DELETE SET NULL,")
    assert compare(ref, parse_create(good), add) == []
    assert compare(ref, parse_create(stmt), add)  # column missing
    assert compare(ref, parse_create(good))  # not declared additive
    assert compare(ref, parse_create(good.replace("ON DELETE SET NULL,", "ON DELETE CASCADE,")), add)
    assert compare(ref, parse_create(good.replace(
        "`workflow_run_id` bigint(20) unsigned DEFAULT NULL", "`workflow_run_id` int(11) DEFAULT NULL")), add)


def test_comparison_catches_differences():
    """The comparator itself: a changed type, default, nullability, FK action or a missing
    unique key is reported; a different index name or an extra index is not."""
    base = open(REFERENCE).read()
    stmt = re.search(r"CREATE TABLE `workflow_steps`.*?;", base, re.S).group(0)
    ref = parse_create(stmt)
    assert compare(ref, parse_create(stmt)) == []
    renamed = stmt.replace("`workflow_steps_workflow_id_step_order_index`", "`ws_idx`").replace(
        "  PRIMARY KEY (`id`),", "  PRIMARY KEY (`id`),\n  KEY `extra` (`step_type`),")
    assert compare(ref, parse_create(renamed)) == []
    # MariaDB prints no ON DELETE RESTRICT; an explicit one is the same thing
    explicit = stmt.replace("REFERENCES `prompts` (`id`),", "REFERENCES `prompts` (`id`) ON DELETE RESTRICT,")
    assert compare(ref, parse_create(explicit)) == []
    for old, new in [
        ("`delay_minutes` int(11) NOT NULL DEFAULT 0", "`delay_minutes` int(11) NOT NULL DEFAULT 1"),
        ("`step_order` int(11) NOT NULL", "`step_order` int(11) DEFAULT NULL"),
        ("`name` varchar(255) NOT NULL", "`name` varchar(191) NOT NULL"),
        ("COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`step_config`))", "COLLATE utf8mb4_bin DEFAULT NULL"),
        ("REFERENCES `workflows` (`id`) ON DELETE CASCADE", "REFERENCES `workflows` (`id`)"),
        ("REFERENCES `prompts` (`id`),", "REFERENCES `prompts` (`id`) ON DELETE SET NULL,"),
        ("  KEY `workflow_steps_workflow_id_step_order_index` (`workflow_id`,`step_order`),\n", ""),
    ]:
        assert old in stmt, old
        assert compare(ref, parse_create(stmt.replace(old, new))), f"not caught: {old} -> {new}"


def test_live_foreign_key_actions(stack):
    """The FK actions as information_schema states them (independent of SHOW's printing)."""
    rows = stack.sql(
        "SELECT TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME, DELETE_RULE, UPDATE_RULE "
        "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()")
    got = {}
    for table, _name, ref_table, delete_rule, update_rule in rows:
        cols = stack.sql(
            "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE "
            f"CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = '{table}' AND CONSTRAINT_NAME = '{_name}' "
            "ORDER BY ORDINAL_POSITION")
        got[(table, tuple(c[0] for c in cols))] = (ref_table, _fk_action(delete_rule), _fk_action(update_rule))
    want = {}
    for t in list(REF.values()) + list(ENGINE_REF.values()):
        fks = {**t["fks"], **ADDITIVE.get(t["name"], {}).get("fks", {})}
        for cols, fk in fks.items():
            want[(t["name"], cols)] = (fk["table"], fk["on_delete"], fk["on_update"])
    assert got == want


# ---------------------------------------------------------------- migrate bookkeeping

def migration_names(directory=MIGRATIONS):
    return sorted(f[:-len(".up.sql")] for f in os.listdir(directory) if f.endswith(".up.sql"))


def recorded(stack):
    """[(migration, batch)] in id order."""
    return [(m, int(b)) for m, b in stack.sql("SELECT migration, batch FROM migrations ORDER BY id")]


def app_tables_present(stack):
    rows = stack.sql("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
    return {r[0] for r in rows}


def test_migrations_table_records_every_file_in_batch_1(stack):
    assert recorded(stack) == [(n, 1) for n in migration_names()]
    rows = stack.sql("SELECT id FROM migrations ORDER BY id")
    ids = [int(r[0]) for r in rows]
    assert ids == sorted(set(ids))


def test_migrate_again_is_a_no_op(stack):
    before_rows = stack.sql("SELECT id, migration, batch FROM migrations ORDER BY id")
    before_schema = all_create(stack)
    r = stack.cli("migrate", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Nothing to migrate." in r.stdout, r.stdout
    assert "Migrating" not in r.stdout
    assert stack.sql("SELECT id, migration, batch FROM migrations ORDER BY id") == before_rows
    after_schema = all_create(stack)
    strip_ai = lambda s: re.sub(r" AUTO_INCREMENT=\d+", "", s)  # noqa: E731 - row counts are noise
    assert {k: strip_ai(v) for k, v in after_schema.items()} == \
        {k: strip_ai(v) for k, v in before_schema.items()}


def test_migrate_status_lists_every_migration_as_ran_in_batch_1(stack):
    r = stack.cli("migrate:status", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [l.split() for l in r.stdout.splitlines() if l.strip()]
    body = [l for l in lines if l and l[-1] in migration_names()]
    assert [l[-1] for l in body] == migration_names(), r.stdout
    for l in body:
        assert l[0] == "Yes" and l[1] == "1", (l, r.stdout)


def test_rollback_undoes_the_last_batch_and_migrate_reapplies_it(make_stack):
    s = make_stack(workers=1)
    names = migration_names()
    assert recorded(s) == [(n, 1) for n in names]

    r = s.cli("migrate:rollback", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    # newest first, as Laravel does (tables with foreign keys go before their parents)
    rolled = re.findall(r"Rolled back:\s+(\S+)", r.stdout)
    assert rolled == list(reversed(names)), r.stdout
    assert recorded(s) == []
    assert app_tables_present(s) & set(APP_TABLES) == set(), app_tables_present(s)
    assert "migrations" in app_tables_present(s)

    st = s.cli("migrate:status", check=False)
    assert st.returncode == 0
    for n in names:
        line = next(l for l in st.stdout.splitlines() if l.rstrip().endswith(n))
        assert line.split()[0] == "Pending", st.stdout

    again = s.cli("migrate:rollback", check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Nothing to rollback" in again.stdout

    m = s.cli("migrate", check=False)
    assert m.returncode == 0, m.stdout + m.stderr
    assert re.findall(r"Migrated:\s+(\S+)", m.stdout) == names
    # the next batch number is one more than the highest recorded (none left: 1)
    assert recorded(s) == [(n, 1) for n in names]
    for t in TABLES:
        problems = compare(REF[t], live_table(s, t), ADDITIVE.get(t))
        assert not problems, problems
    for t in ENGINE_TABLES:
        problems = compare(ENGINE_REF[t], live_table(s, t))
        assert not problems, problems


def _copy_migrations(dst):
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(MIGRATIONS):
        shutil.copy(os.path.join(MIGRATIONS, f), dst)
    return dst


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_second_batch_rollback_and_next_batch_number(make_stack, tmp_path):
    s = make_stack(workers=1)
    mig = _copy_migrations(str(tmp_path / "migrations"))
    _write(os.path.join(mig, "0090_create_widgets_table.up.sql"),
           "CREATE TABLE `widgets` (\n  `id` bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY\n);\n")
    _write(os.path.join(mig, "0090_create_widgets_table.down.sql"), "DROP TABLE IF EXISTS `widgets`;\n")
    env = dict(s.env(), AIENGINE_MIGRATIONS=mig)
    names = migration_names()

    r = s.cli("migrate", check=False, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.findall(r"Migrated:\s+(\S+)", r.stdout) == ["0090_create_widgets_table"]
    assert recorded(s) == [(n, 1) for n in names] + [("0090_create_widgets_table", 2)]
    assert "widgets" in app_tables_present(s)

    st = s.cli("migrate:status", check=False, env=env)
    line = next(l for l in st.stdout.splitlines() if l.rstrip().endswith("0090_create_widgets_table"))
    assert line.split()[:2] == ["Yes", "2"], st.stdout

    # rollback takes only batch 2
    r = s.cli("migrate:rollback", check=False, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.findall(r"Rolled back:\s+(\S+)", r.stdout) == ["0090_create_widgets_table"]
    assert recorded(s) == [(n, 1) for n in names]
    present = app_tables_present(s)
    assert "widgets" not in present
    assert set(APP_TABLES) <= present

    # migrate re-creates it with the next batch number (highest recorded + 1)
    r = s.cli("migrate", check=False, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert recorded(s) == [(n, 1) for n in names] + [("0090_create_widgets_table", 2)]
    assert "widgets" in app_tables_present(s)
    r = s.cli("migrate", check=False, env=env)
    assert "Nothing to migrate." in r.stdout
    assert recorded(s)[-1] == ("0090_create_widgets_table", 2)


def test_failing_migration_stops_with_file_and_message(make_stack, tmp_path):
    s = make_stack(workers=1)
    mig = _copy_migrations(str(tmp_path / "migrations"))
    _write(os.path.join(mig, "0090_create_gadgets_table.up.sql"),
           "CREATE TABLE `gadgets` (\n  `id` bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY\n);\n")
    _write(os.path.join(mig, "0090_create_gadgets_table.down.sql"), "DROP TABLE IF EXISTS `gadgets`;\n")
    _write(os.path.join(mig, "0099_broken.up.sql"), "CREATE TABLEX `broken` (`id` int);\n")
    _write(os.path.join(mig, "0099_broken.down.sql"), "DROP TABLE IF EXISTS `broken`;\n")
    _write(os.path.join(mig, "0100_after_broken.up.sql"),
           "CREATE TABLE `after_broken` (`id` int NOT NULL PRIMARY KEY);\n")
    _write(os.path.join(mig, "0100_after_broken.down.sql"), "DROP TABLE IF EXISTS `after_broken`;\n")
    env = dict(s.env(), AIENGINE_MIGRATIONS=mig)
    names = migration_names()

    r = s.cli("migrate", check=False, env=env)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "0099_broken" in out, out
    assert "error in your SQL syntax" in out, out  # MariaDB's own message, passed through
    # the good one before it is applied and recorded; the broken one and the rest are not
    assert recorded(s) == [(n, 1) for n in names] + [("0090_create_gadgets_table", 2)]
    present = app_tables_present(s)
    assert "gadgets" in present
    assert "broken" not in present and "after_broken" not in present

    st = s.cli("migrate:status", check=False, env=env)
    assert st.returncode == 0, st.stdout + st.stderr
    status = {l.split()[-1]: l.split()[0] for l in st.stdout.splitlines()[1:] if l.strip()}
    assert status["0090_create_gadgets_table"] == "Yes"
    assert status["0099_broken"] == "Pending"
    assert status["0100_after_broken"] == "Pending"

    # fixed, the next run applies the rest as a new batch
    _write(os.path.join(mig, "0099_broken.up.sql"), "CREATE TABLE `broken` (`id` int);\n")
    r = s.cli("migrate", check=False, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert recorded(s)[-2:] == [("0099_broken", 3), ("0100_after_broken", 3)]


def test_migrate_refuses_a_bad_migration_folder(make_stack, tmp_path):
    """A .up.sql without its .down.sql is refused before anything runs."""
    s = make_stack(workers=1)
    mig = _copy_migrations(str(tmp_path / "migrations"))
    _write(os.path.join(mig, "0090_lonely.up.sql"), "CREATE TABLE `lonely` (`id` int);\n")
    r = s.cli("migrate", check=False, env=dict(s.env(), AIENGINE_MIGRATIONS=mig))
    assert r.returncode != 0
    assert "0090_lonely" in r.stdout + r.stderr
    assert "lonely" not in app_tables_present(s)
    assert len(recorded(s)) == len(migration_names())

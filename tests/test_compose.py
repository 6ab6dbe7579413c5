"""docker-compose.yml and the Dockerfile, checked statically (Docker does not run here): the
services DESIGN.md section 6 names, wired to each other, and an image whose command exists."""

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"postgres", "redis", "mailcatcher", "api", "worker"}
ENV_VARS = {"DATABASE_URL", "REDIS_URL", "PUBLIC_URL", "SMTP_URL"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each instruction, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        instructions.append((word.upper(), rest.strip()))
    return instructions


def command_words(value: str | list[str]) -> list[str]:
    """A compose command or Dockerfile CMD (exec or shell form) as words."""
    if isinstance(value, list):
        return [str(v) for v in value]
    value = value.strip()
    if value.startswith("["):
        words: list[str] = yaml.safe_load(value)  # exec form is a JSON array
        return words
    return shlex.split(value)


def shell_steps(value: str | list[str]) -> list[list[str]]:
    """The commands a service runs, split on && (and `sh -c` unwrapped), `exec` dropped."""
    words = command_words(value)
    if len(words) >= 3 and words[0] in ("sh", "/bin/sh", "bash") and words[1] == "-c":
        words = shlex.split(words[2])
    steps: list[list[str]] = [[]]
    for word in words:
        if word in ("&&", ";"):
            steps.append([])
        elif not (word == "exec" and not steps[-1]):
            steps[-1].append(word)
    return [s for s in steps if s]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """Dependency name → condition (list form means service_started)."""
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def test_services_exist(services: dict[str, Any]) -> None:
    assert SERVICES <= set(services)


def test_backing_services_use_known_images(services: dict[str, Any]) -> None:
    assert services["postgres"]["image"].split(":")[0] in ("postgres", "docker.io/postgres")
    assert services["redis"]["image"].split(":")[0] in ("redis", "docker.io/redis")
    mail_image = services["mailcatcher"]["image"].split(":")[0]
    assert mail_image.removeprefix("docker.io/") in (
        "axllent/mailpit",
        "schickling/mailcatcher",
        "mailhog/mailhog",
    )
    # A pinned version: `latest` changes under a compose file that did not.
    tag = services["mailcatcher"]["image"].partition(":")[2]
    assert tag and tag != "latest"


@pytest.mark.parametrize("name", ["api", "worker"])
def test_mail_goes_to_the_mail_catcher(services: dict[str, Any], name: str) -> None:
    smtp = urlsplit(environment(services[name])["SMTP_URL"])
    assert (smtp.scheme, smtp.hostname, smtp.port) == ("smtp", "mailcatcher", 1025)


def test_api_migrates_then_serves(services: dict[str, Any]) -> None:
    steps = shell_steps(services["api"]["command"])
    assert steps[0] == ["roster", "migrate"]
    serve = steps[-1]
    assert serve[:2] == ["roster", "serve"]
    assert serve[serve.index("--host") + 1] == "0.0.0.0"
    assert serve[serve.index("--port") + 1] == "8000"
    published = [str(p) for p in services["api"].get("ports", [])]
    assert any(p.split(":")[-1] == "8000" for p in published), published


def test_worker_runs_the_worker(services: dict[str, Any]) -> None:
    assert shell_steps(services["worker"]["command"]) == [["roster", "worker"]]


@pytest.mark.parametrize("name", ["api", "worker"])
def test_roster_services_are_configured_for_compose(
    services: dict[str, Any], compose: dict[str, Any], name: str
) -> None:
    env = environment(services[name])
    assert ENV_VARS <= set(env), env
    database = urlsplit(env["DATABASE_URL"])
    assert database.scheme in ("postgresql", "postgres")
    assert database.hostname == "postgres"
    pg_env = environment(services["postgres"])
    assert database.username == pg_env.get("POSTGRES_USER", "postgres")
    assert database.password == pg_env.get("POSTGRES_PASSWORD")
    assert database.path.lstrip("/") == pg_env.get("POSTGRES_DB", database.username)
    redis = urlsplit(env["REDIS_URL"])
    assert (redis.scheme, redis.hostname) == ("redis", "redis")
    public = urlsplit(env["PUBLIC_URL"])
    assert public.scheme in ("http", "https") and public.hostname
    # The public URL is where a browser reaches the API: the published port.
    published = [str(p).split(":") for p in services["api"].get("ports", [])]
    assert any(p[-1] == "8000" and int(p[-2]) == (public.port or 80) for p in published)


def test_roster_is_built_once_from_the_dockerfile(services: dict[str, Any]) -> None:
    builders = [name for name, service in services.items() if "build" in service]
    assert builders == ["api"], builders
    build = services["api"]["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (ROOT / context / dockerfile).resolve() == (ROOT / "Dockerfile").resolve()
    # The worker runs the image the api service built, under the same name, never pulled.
    image = services["api"]["image"]
    assert services["worker"]["image"] == image
    assert services["worker"].get("pull_policy") == "never"


def test_every_other_image_is_pinned(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if "build" in service or service.get("pull_policy") == "never":
            continue
        tag = service["image"].rpartition("/")[2].partition(":")[2]
        assert tag and tag != "latest", (name, service["image"])


def test_the_readme_says_to_build(compose: dict[str, Any]) -> None:
    """`docker compose up` alone runs an image built earlier, however old: the README says
    --build, as the compose file's own comment does."""
    commands = re.findall(r"docker compose up[^`\n]*", (ROOT / "README.md").read_text())
    assert commands and all("--build" in c for c in commands), commands


@pytest.mark.parametrize("name", ["api", "worker"])
def test_roster_services_wait_for_healthy_postgres(services: dict[str, Any], name: str) -> None:
    deps = depends_on(services[name])
    assert deps.get("postgres") == "service_healthy", deps
    assert "redis" in deps


def test_postgres_has_a_healthcheck(services: dict[str, Any]) -> None:
    check = services["postgres"]["healthcheck"]
    test = check["test"]
    words = " ".join(test) if isinstance(test, list) else test
    assert "pg_isready" in words
    assert not check.get("disable", False)


def test_dependencies_name_defined_services_with_healthchecks(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dep, condition in depends_on(service).items():
            assert dep in services, (name, dep)
            if condition == "service_healthy":
                assert "healthcheck" in services[dep], (name, dep)


def test_dockerfile_is_simple_and_runs_as_non_root() -> None:
    instructions = dockerfile_instructions()
    froms = [args for word, args in instructions if word == "FROM"]
    assert froms == ["python:3.11-slim"]
    users = [args for word, args in instructions if word == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    # The user switch comes after the installation and before the command.
    words = [word for word, _ in instructions]
    last_user = len(words) - 1 - words[::-1].index("USER")
    install = next(i for i, (w, a) in enumerate(instructions) if w == "RUN" and "pip install" in a)
    assert install < last_user
    assert all(i > last_user for i, w in enumerate(words) if w in ("CMD", "ENTRYPOINT"))


def test_dockerfile_installs_the_project(pyproject: dict[str, Any]) -> None:
    instructions = dockerfile_instructions()
    runs = " && ".join(args for word, args in instructions if word == "RUN")
    assert re.search(r"pip install (\S+ )*\.(\s|$|&)", runs), runs
    # Everything `pip install .` needs is copied in: pyproject.toml and every package.
    copied = set()
    for word, args in instructions:
        if word in ("COPY", "ADD"):
            sources = command_words(args)[:-1]
            copied.update(s.rstrip("/").removeprefix("./") for s in sources)
    if "." not in copied:
        assert "pyproject.toml" in copied
        includes = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
        for pattern in includes:
            package = pattern.rstrip("*")
            assert package in copied, package
            assert (ROOT / package / "__init__.py").exists()


def test_dockerfile_command_is_a_console_script(pyproject: dict[str, Any]) -> None:
    instructions = dockerfile_instructions()
    commands = [args for word, args in instructions if word in ("CMD", "ENTRYPOINT")]
    assert commands, "the Dockerfile has no CMD or ENTRYPOINT"
    entry = [args for word, args in instructions if word == "ENTRYPOINT"]
    cmd = [args for word, args in instructions if word == "CMD"]
    words = command_words(entry[-1]) if entry else command_words(cmd[-1])
    scripts = pyproject["project"]["scripts"]
    assert words[0] in scripts, words
    assert scripts["roster"] == "roster.cli:main"
    # The default command is one the CLI knows.
    full = (command_words(entry[-1]) if entry else []) + (command_words(cmd[-1]) if cmd else [])
    from roster.cli import _parser

    args = _parser().parse_args(full[1:])
    assert args.command == "serve"
    assert args.host == "0.0.0.0"


def test_compose_commands_parse_with_the_cli(services: dict[str, Any]) -> None:
    from roster.cli import _parser

    for name in ("api", "worker"):
        for step in shell_steps(services[name]["command"]):
            assert step[0] == "roster"
            _parser().parse_args(step[1:])  # exits (SystemExit) on an unknown command


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored

"""Maps the repo's top-level folders onto one import package, `serverless_patterns`.

The folders keep the layout the project is known by (`components/`, `lambdas/`, `policies/`); the wheel
installs them as `serverless_patterns`, `serverless_patterns.lambdas` and `serverless_patterns.policies`,
so no program's own `components/`, `lambdas/` or `policies/` can shadow them. Everything else is in
pyproject.toml; setup.py exists only because a mapped package tree must be listed package by package.
"""

from setuptools import find_namespace_packages, setup

#: import package -> folder in this repo
ROOTS = {
    "serverless_patterns": "components",
    "serverless_patterns.lambdas": "lambdas",
    "serverless_patterns.policies": "policies",
}
SKIP = ["*__pycache__*", "*.egg-info*"]


def packages() -> list[str]:
    found: list[str] = []
    for name, folder in ROOTS.items():
        found.append(name)
        found += [f"{name}.{sub}" for sub in find_namespace_packages(folder, exclude=SKIP)]
    return found


setup(packages=packages(), package_dir=ROOTS)

"""The knowledge base as domain objects, and its YAML file format."""

from veiviser.content.model import Button, Group, Intent, KnowledgeBase, Organisation
from veiviser.content.yaml_io import dump_knowledge_base, load_knowledge_base

__all__ = [
    "Button",
    "Group",
    "Intent",
    "KnowledgeBase",
    "Organisation",
    "dump_knowledge_base",
    "load_knowledge_base",
]

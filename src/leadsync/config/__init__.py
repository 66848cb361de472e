"""Configuration beyond the environment: the mapping file (``leadsync.toml``) and the flows it defines."""

from leadsync.config.flows import DEFAULT_FLOW_NAME, FlowConfig, load_flows, mapping_file_path, one_flow
from leadsync.config.mapping_file import TWO_WAY_ROLES, MappingFile, load_mapping_file

__all__ = [
    "DEFAULT_FLOW_NAME",
    "TWO_WAY_ROLES",
    "FlowConfig",
    "MappingFile",
    "load_flows",
    "load_mapping_file",
    "mapping_file_path",
    "one_flow",
]

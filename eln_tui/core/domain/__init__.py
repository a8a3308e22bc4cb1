"""Domain layer: code tables, the ELN model, validators, ФЛК and lifecycle (pure, no I/O)."""

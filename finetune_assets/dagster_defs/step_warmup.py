"""Work every step process would otherwise repeat as it starts, done once in the server the step
processes fork from (the executor preloads this module): compiling the built-in redaction rules,
which the settings check of every step needs."""

from ..core.redaction import compiled_built_in_rules

compiled_built_in_rules()

"""The Fund's WSDL/XSD as served (copies of fss-spec/; see fss-spec/SOURCES.md)."""

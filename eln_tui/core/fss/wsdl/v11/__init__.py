"""WSDL/XSD of the MO service v1.1 (test contour WSLnV11, 2019-07-26)."""

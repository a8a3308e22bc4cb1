"""WSDL/XSD of the MO service v2.0 (test contour WSLnV20_2)."""

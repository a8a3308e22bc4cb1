"""XSD/WSDL of the Fund's MO service v1.1 (test contour WSLnV11, 2019-07-26)."""

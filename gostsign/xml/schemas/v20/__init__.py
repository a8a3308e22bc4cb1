"""XSD/WSDL of the Fund's MO service v2.0 (test contour WSLnV20_2)."""

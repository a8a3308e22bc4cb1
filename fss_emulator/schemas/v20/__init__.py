"""v2.0 MO service, test contour WSLnV20_2 (fss-spec/v2.0-mo/test-WSLnV20_2/)."""

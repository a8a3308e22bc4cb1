"""v1.1 MO service, test contour WSLnV11 of 2019-07-26 (fss-spec/v1.1-mo/)."""

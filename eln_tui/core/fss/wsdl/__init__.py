"""The Fund's WSDL and XSD files of the MO service, bundled byte-exact (data published by the
Fund; provenance in ``../shared/fss-spec/SOURCES.md``).

* ``v20/``: v2.0, test contour ``https://docs-test.fss.ru/WSLnV20_2/FileOperationsLnService``
  (13 files, from LenchikTs/client ``Exchange/FSSv2/wsdl/raw/`` at 2917e8ee);
* ``v11/``: v1.1, test contour ``https://docs-test.fss.ru/WSLnV11/FileOperationsLnPort`` as
  of 2019-07-26 (the copy with prParseFileNumberslpu).

Their ``location``/``schemaLocation`` URLs point at the Fund's servers; the client maps each to
the bundled file by name and never fetches anything.
"""

"""The Fund's XSD/WSDL files, bundled byte-exact (data published by the Fund).

* ``v20/``: the MO service v2.0, test contour ``https://docs-test.fss.ru/WSLnV20_2/`` (13 files,
  from LenchikTs/client ``Exchange/FSSv2/wsdl/raw/`` at 2917e8eec21f07810d5aefba3d9f641419648dba);
* ``v11/``: the MO service v1.1, test contour ``https://docs-test.fss.ru/WSLnV11/`` as of
  2019-07-26 (same repository, ``Exchange/FSS/wsdl/2019-07-26/raw/``).

Their ``schemaLocation`` attributes point at the Fund's servers; :mod:`gostsign.xml.schema`
resolves them to these files and never touches the network.
"""

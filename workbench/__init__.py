"""The workbench (工作台): server-rendered pages where ops staff, buyers, suppliers and regulators
see what waits for them and decide it, beside the REST API and on its very rules of access."""

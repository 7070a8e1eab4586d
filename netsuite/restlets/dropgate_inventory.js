/**
 * @NApiVersion 2.1
 * @NScriptType Restlet
 * @NModuleScope SameAccount
 *
 * dropgate's inventory RESTlet: a vendor's stock levels written onto many
 * items in one request (NetSuite's REST record service takes one record a
 * request; an inventory feed has thousands). dropgate sends one request per
 * batch of `[netsuite.inventory] batch` items.
 *
 * Deploy it: Customization > Scripting > Scripts > New, upload this file,
 * then Deploy Script (status Released, audience: the role dropgate uses).
 * Put the script ID and the deployment ID (customscript_..., customdeploy_...)
 * in gateway.toml's [netsuite.inventory].
 *
 * POST body:
 *   {"match": "itemid" | "vendorname" | "upccode" | "externalid",
 *    "items": [{"key": "WIDGET-BLUE", "values": {"custitem_dropgate_vendor_qty": 12}}]}
 * Answer:
 *   {"results": [{"key": "WIDGET-BLUE", "id": "1"}, {"key": "NOPE", "error": "..."}]}
 * One item's failure does not stop the others; each says what became of it.
 */
define(['N/search', 'N/record'], (search, record) => {
    const MATCH = {
        itemid: 'itemid',
        vendorname: 'vendorname',
        upccode: 'upccode',
        externalid: 'externalid',
    };

    const find = (field, keys) => {
        const found = {};
        if (!keys.length) {
            return found;
        }
        const filters = [];
        keys.forEach((key, n) => {
            if (n) {
                filters.push('OR');
            }
            filters.push([field, 'is', key]);
        });
        search
            .create({ type: search.Type.ITEM, filters, columns: [field] })
            .run()
            .each((row) => {
                found[String(row.getValue(field))] = { id: row.id, type: row.recordType };
                return true;
            });
        return found;
    };

    const post = (body) => {
        const field = MATCH[body && body.match];
        if (!field) {
            return { error: 'match is one of ' + Object.keys(MATCH).join(', ') };
        }
        const items = Array.isArray(body.items) ? body.items : [];
        const found = find(field, items.map((item) => String(item.key)));
        const results = items.map((item) => {
            const hit = found[String(item.key)];
            if (!hit) {
                return { key: item.key, error: 'no item with ' + field + ' ' + item.key };
            }
            try {
                record.submitFields({
                    type: hit.type,
                    id: hit.id,
                    values: item.values || {},
                    options: { enableSourcing: false, ignoreMandatoryFields: true },
                });
                return { key: item.key, id: hit.id };
            } catch (e) {
                return { key: item.key, error: e.name + ': ' + e.message };
            }
        });
        return { results };
    };

    return { post };
});

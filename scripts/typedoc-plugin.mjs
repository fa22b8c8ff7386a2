// A TypeDoc plugin for this package's reference: the default export `init` is shown by its
// name (TypeDoc calls every default export "default", typedoc#1521; this is the renaming its
// maintainer proposed there).
import { Converter } from "typedoc";

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (reflection.name !== "default") return;
    const declaration = context.getSymbolFromReflection(reflection)?.declarations?.[0];
    const name = declaration && "name" in declaration ? declaration.name?.getText() : undefined;
    if (name && name !== "default") reflection.name = name;
  });
}

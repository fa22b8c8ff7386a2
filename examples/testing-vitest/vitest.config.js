// jsdom gives the component a document, and the keeper jsdom's sessionStorage and localStorage.
export default { test: { environment: "jsdom" } };

export const placeholderNode: number = 0;
